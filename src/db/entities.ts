import { IdempotencyRecord } from '../common/idempotency';
import { DomainEvent } from '../common/events';
import { OutboxCursor } from '../common/outbox';
import { FiredNotice } from '../common/notices';
import { Agreement, AgreementVersion, Amendment, Objective } from '../modules/agreements/agreement.entity';
import { AgreementLifecycleRequest } from '../modules/agreements/lifecycle.entity';
import { AuditEntry } from '../modules/audit/audit.entity';
import { ApiToken } from '../modules/auth/api-token.entity';
import { User } from '../modules/auth/user.entity';
import { Metric } from '../modules/catalog/metric.entity';
import { Service } from '../modules/catalog/service.entity';
import { Department } from '../modules/departments/department.entity';
import { Exclusion, Report, ReportRevision, ReportValue } from '../modules/reports/report.entity';
import { HandoffBatch, HandoffEvent, HandoffMonth } from '../modules/handoffs/handoff.entity';
import { Escalation, EscalationBatch } from '../modules/escalations/escalation.entity';
import { Measurement, MeasurementBatch, MeasurementMonth } from '../modules/measurements/measurement.entity';
import { WebhookDelivery, WebhookSubscription } from '../modules/webhooks/webhook.entity';
import { EmailMessage, EmailPreference, InboxRead, InboxWatermark } from '../modules/notifications/notification.entity';
import { ExportLinkSecret } from '../modules/exports/export-link.entity';
import { CreditEntry, CreditTombstone, LedgerMonth, LedgerObjective, LedgerState, MonthClose, MonthReopening } from '../modules/ledger/ledger.entity';

/** Every entity the ORM knows; listed explicitly so discovery works the same compiled and under vitest. */
export const entities = [
  Department,
  Service,
  Metric,
  User,
  ApiToken,
  IdempotencyRecord,
  AuditEntry,
  Agreement,
  AgreementVersion,
  Objective,
  Amendment,
  AgreementLifecycleRequest,
  Report,
  ReportRevision,
  ReportValue,
  Exclusion,
  HandoffEvent,
  HandoffBatch,
  HandoffMonth,
  Escalation,
  EscalationBatch,
  Measurement,
  MeasurementBatch,
  MeasurementMonth,
  LedgerMonth,
  LedgerObjective,
  LedgerState,
  MonthClose,
  CreditEntry,
  CreditTombstone,
  ExportLinkSecret,
  MonthReopening,
  DomainEvent,
  OutboxCursor,
  FiredNotice,
  WebhookSubscription,
  WebhookDelivery,
  InboxRead,
  InboxWatermark,
  EmailPreference,
  EmailMessage,
];
