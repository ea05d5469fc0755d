import { catalogCases } from './catalog.cases';
import { runContractCases } from './contract-cases';

runContractCases(catalogCases);
