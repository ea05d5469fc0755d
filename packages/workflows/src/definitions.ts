// Everything a client needs to talk to `repairIncident`: signals, queries, updates and search attribute keys.
// Free of side effects, so the gateway, the CLI and tests import it outside the workflow sandbox too.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import {
  SEARCH_ATTRIBUTES,
  type ApproveRequest,
  type IncidentStatus,
  type OccurrenceSignal,
  type RejectRequest,
  type ReviewState,
} from '@tracemend/contracts';

/** The full stage record so far. */
export const statusQuery = defineQuery<IncidentStatus>('status');

/** A duplicate alert for the same incident: counts occurrences. */
export const occurrenceSignal = defineSignal<[OccurrenceSignal]>('occurrence');

/** Review-gate decisions as signals: what the Temporal UI's Signal action sends from the workflow page. */
export const approveSignal = defineSignal<[ApproveRequest]>('approve');
export const rejectSignal = defineSignal<[RejectRequest]>('reject');

/** Review-gate decisions as updates with validators: the caller gets the new review state or a reason it was refused. */
export const approveUpdate = defineUpdate<ReviewState, [ApproveRequest]>('approve');
export const rejectUpdate = defineUpdate<ReviewState, [RejectRequest]>('reject');

/** Typed keys of tracemend's custom search attributes. */
export const searchAttributeKeys = {
  service: defineSearchAttributeKey(SEARCH_ATTRIBUTES.service.name, SearchAttributeType.KEYWORD),
  errorType: defineSearchAttributeKey(SEARCH_ATTRIBUTES.errorType.name, SearchAttributeType.KEYWORD),
  stage: defineSearchAttributeKey(SEARCH_ATTRIBUTES.stage.name, SearchAttributeType.KEYWORD),
  risk: defineSearchAttributeKey(SEARCH_ATTRIBUTES.risk.name, SearchAttributeType.INT),
  outcome: defineSearchAttributeKey(SEARCH_ATTRIBUTES.outcome.name, SearchAttributeType.KEYWORD),
};
