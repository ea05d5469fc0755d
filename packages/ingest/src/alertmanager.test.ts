import { TracemendError } from '@tracemend/contracts';
import { describe, expect, it } from 'vitest';
import { alertService, alertWindow, alertmanagerTraceIds, isAlertmanagerWebhook, parseAlertmanagerWebhook } from './alertmanager';

/** A webhook as Alertmanager posts it for a rule that copies the exemplar's trace id into an annotation. */
function webhook(): Record<string, unknown> {
  return {
    version: '4',
    groupKey: '{}:{alertname="HighErrorRate"}',
    truncatedAlerts: 0,
    receiver: 'tracemend',
    status: 'firing',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'HighErrorRate', service: 'users-api', severity: 'page' },
        annotations: { summary: '5xx rate above 2%', trace_id: 'A61CD2D494C156DB09FB9596E3EC0FA4' },
        startsAt: '2026-11-20T12:00:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.example/graph?g0.expr=rate',
        fingerprint: 'c0ffee0123456789',
      },
      {
        status: 'resolved',
        labels: { alertname: 'HighErrorRate', job: 'leaderboard', traceId: 'b5f0aa17c39d4e2b8f6a1c2d3e4f5a6b' },
        annotations: {},
        startsAt: '2026-11-20T11:00:00Z',
        endsAt: '2026-11-20T11:30:00Z',
      },
      { status: 'firing', labels: { alertname: 'HighErrorRate', service: 'checkout-worker' }, annotations: { 'trace.id': 'zz-not-hex' } },
      { status: 'firing', labels: { alertname: 'DiskFull' }, annotations: { summary: 'disk' } },
    ],
    groupLabels: { alertname: 'HighErrorRate' },
    commonLabels: { alertname: 'HighErrorRate' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example',
  };
}

describe('alertmanagerTraceIds', () => {
  it('reads trace ids from annotations and labels, with the service label, lowercased', () => {
    expect(alertmanagerTraceIds(parseAlertmanagerWebhook(webhook()))).toEqual([
      { alert: 0, status: 'firing', traceId: 'a61cd2d494c156db09fb9596e3ec0fa4', service: 'users-api', alertFingerprint: 'c0ffee0123456789' },
      { alert: 1, status: 'resolved', traceId: 'b5f0aa17c39d4e2b8f6a1c2d3e4f5a6b', service: 'leaderboard' },
    ]);
  });

  it('falls back to a trace id the whole group shares', () => {
    const body = webhook();
    body.alerts = [{ status: 'firing', labels: { alertname: 'X' } }];
    body.commonAnnotations = { trace_id: '0123456789abcdef0123456789abcdef' };
    expect(alertmanagerTraceIds(parseAlertmanagerWebhook(body)).map((ref) => ref.traceId)).toEqual(['0123456789abcdef0123456789abcdef']);
  });
});

describe('parseAlertmanagerWebhook', () => {
  function error(value: unknown): TracemendError {
    try {
      parseAlertmanagerWebhook(value);
    } catch (caught) {
      if (caught instanceof TracemendError) return caught;
      throw caught;
    }
    throw new Error('expected INVALID_INPUT');
  }

  it('names the failing path of a malformed webhook', () => {
    const badStatus = webhook();
    (badStatus.alerts as Record<string, unknown>[])[1] = { status: 'pending', labels: {} };
    expect(error(badStatus).code).toBe('INVALID_INPUT');
    expect(error(badStatus).message).toContain('alerts[1].status');

    expect(error({ ...webhook(), version: '3' }).message).toContain('version');
    expect(error({ ...webhook(), alerts: [] }).message).toContain('alerts: expected at least one alert');
    expect(error({ ...webhook(), receiver: undefined }).message).toContain('receiver');
    const badLabel = webhook();
    (badLabel.alerts as Record<string, unknown>[])[0] = { status: 'firing', labels: { count: 3 } };
    expect(error(badLabel).message).toContain('alerts[0].labels.count');
  });

  it('recognises the webhook shape only with version 4 and an alerts array', () => {
    expect(isAlertmanagerWebhook(webhook())).toBe(true);
    expect(isAlertmanagerWebhook({ version: '4' })).toBe(false);
    expect(isAlertmanagerWebhook({ version: 4, alerts: [] })).toBe(false);
    expect(isAlertmanagerWebhook(null)).toBe(false);
  });
});

describe('alertWindow and alertService', () => {
  const alert = (startsAt: string | undefined, endsAt: string | undefined) =>
    parseAlertmanagerWebhook({ version: '4', status: 'firing', receiver: 'r', groupLabels: {}, commonLabels: { job: 'orders' }, commonAnnotations: {}, alerts: [{ status: 'firing', labels: {}, startsAt, endsAt }] }).alerts[0]!;

  it('widens startsAt..endsAt by the margin, reading an alert that has not ended as ending now', () => {
    expect(alertWindow(alert('2026-11-20T12:00:00Z', '2026-11-20T12:10:00Z'), 60_000, '2026-11-20T13:00:00Z')).toEqual({ from: '2026-11-20T11:59:00.000Z', to: '2026-11-20T12:11:00.000Z' });
    expect(alertWindow(alert('2026-11-20T12:00:00Z', '0001-01-01T00:00:00Z'), 60_000, '2026-11-20T12:30:00Z')).toEqual({ from: '2026-11-20T11:59:00.000Z', to: '2026-11-20T12:31:00.000Z' });
    expect(alertWindow(alert(undefined, undefined), 60_000, '2026-11-20T12:30:00Z')).toBeUndefined();
  });

  it('takes the service from the labels, then the group', () => {
    const webhook = parseAlertmanagerWebhook({ version: '4', status: 'firing', receiver: 'r', commonLabels: { job: 'orders' }, alerts: [{ status: 'firing', labels: {} }, { status: 'firing', labels: { service_name: 'payments' } }] });
    expect(webhook.alerts.map((item) => alertService(item, webhook))).toEqual(['orders', 'payments']);
  });
});
