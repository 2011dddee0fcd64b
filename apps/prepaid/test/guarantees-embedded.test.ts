import { defineGuaranteeTests } from './guarantee-cases.js';

defineGuaranteeTests('embedded');
