/** Kinds of personal data a melody (or the workspace) can ask to mask; see engine/privacy.ts. */
export const PII_KINDS = ['email', 'phone', 'card', 'ssn', 'ip', 'iban'] as const;
export type PiiKind = (typeof PII_KINDS)[number];
