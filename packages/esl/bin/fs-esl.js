#!/usr/bin/env node
// The fs-esl command. This launcher is committed rather than built so that npm can link the bin
// as soon as it installs the package, before the build (the `prepare` script) has created the
// compiled CLI it starts.
import '../dist/src/cli/main.js';
