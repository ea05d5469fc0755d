import { runContractCases } from './contract-cases';
import { gatedCases } from './gated.cases';

runContractCases(gatedCases);
