#!/usr/bin/env node
// The prepaid command. This launcher is committed rather than built so that npm can link the bin
// as soon as it installs the workspace, before the build (the root `prepare` script) has created
// the compiled program it starts.
import '../dist/src/main.js';
