import { defineFlowTests } from './flow-cases.js';

defineFlowTests('http');
