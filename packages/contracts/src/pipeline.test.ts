import { runContractCases } from './contract-cases';
import { pipelineCases } from './pipeline.cases';

runContractCases(pipelineCases);
