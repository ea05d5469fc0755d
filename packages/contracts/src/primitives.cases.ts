import { casesOf, chars, entries, repeat, type CaseTable } from './contract-cases';
import { Attributes, AttributeValue, GitSha, HexId, Identifier, IsoDateTime, SchemaVersion } from './primitives';

const SHA1 = '3f6c2a1b9d8e7f60514233445566778899aabbcc';

export const primitivesCases: CaseTable = {
  SchemaVersion: casesOf(SchemaVersion, [1], (change) => [
    change.missing([], /expected 1/),
    change.wrongType([], '1', /expected 1/),
    change.outOfDomain([], 2, /expected 1/),
  ]),
  Identifier: casesOf(Identifier, ['users-api', chars(256)], (change) => [
    change.missing([]),
    change.wrongType([], 42),
    change.overBound([], chars(257)),
    change.outOfDomain([], '', /Too small/),
  ]),
  HexId: casesOf(HexId, ['deadbee', chars(128, 'f')], (change) => [
    change.missing([]),
    change.wrongType([], 0xdeadbee),
    change.overBound([], chars(129, 'f')),
    change.outOfDomain([], 'DEADBEEF', /lowercase hex/),
    change.outOfDomain([], 'abc123', /Too small/),
  ]),
  GitSha: casesOf(GitSha, [SHA1, chars(64, 'b')], (change) => [
    change.missing([]),
    change.wrongType([], 3),
    change.overBound([], `${SHA1}a`, /full git commit SHA/),
    change.outOfDomain([], SHA1.slice(0, 12), /full git commit SHA/),
    change.outOfDomain([], SHA1.toUpperCase(), /full git commit SHA/),
  ]),
  IsoDateTime: casesOf(IsoDateTime, ['2026-11-20T09:15:02.123Z', '2026-11-20T10:15:02+01:00'], (change) => [
    change.missing([]),
    change.wrongType([], new Date('2026-11-20T09:15:02.123Z')),
    change.overBound([], `2026-11-20T09:15:02.${chars(44, '1')}Z`),
    change.outOfDomain([], '2026-11-20 09:15:02', /datetime/),
    change.outOfDomain([], '2026-11-20T09:15:02', /datetime/),
  ]),
  AttributeValue: casesOf(AttributeValue, ['GET', 500, true, ['a', 2, false], chars(4_096), repeat(256, 1)], (change) => [
    change.missing([], /Invalid input/),
    change.wrongType([], { nested: 'object' }),
    change.overBound([], chars(4_097)),
    change.overBound([], repeat(257, 1)),
  ]),
  Attributes: casesOf(Attributes, [{ 'http.route': '/v1/users', 'http.response.status_code': 500 }, {}, entries(256, 1)], (change) => [
    change.missing([]),
    change.wrongType(['http.route'], null),
    change.wrongType([], ['http.route']),
    change.overBound([], entries(257, 1)),
    change.overBound(['http.route'], chars(4_097)),
  ]),
};
