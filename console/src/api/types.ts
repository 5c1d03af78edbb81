//! Short names for the generated OpenAPI types the console uses (openapi-typescript writes
//! target/console/schema.d.ts from src/api/openapi.json in the build step).
import type { components } from '../../../target/console/schema';

type Schemas = components['schemas'];
export type Session = Schemas['Session'];
export type Mode = Session['modes'][number];
export type Role = Session['role'];
export type Problem = Schemas['Problem'];
export type KeyView = Schemas['KeyView'];
export type KeyCreated = Schemas['OrgKeyCreated'];
export type Member = Schemas['Member'];
export type Invite = Schemas['Invite'];
export type UsageHistory = Schemas['UsageHistory'];
export type CertificateRow = Schemas['CertificateListItem'];
export type Report = Schemas['Report'];
export type JobStatus = Report['status'];
export type ReportRequest = Schemas['ReportRequest'];
export type Figure = Schemas['Figure'];
