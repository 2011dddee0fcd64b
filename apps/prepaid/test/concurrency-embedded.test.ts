import { defineConcurrencyTest } from './concurrency-cases.js';

defineConcurrencyTest('embedded');
