import { defineRestartTests } from './restart-cases.js';

defineRestartTests('disk');
