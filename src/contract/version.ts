/**
 * Version and headers of the Kafka contract (docs/kafka/README.md). A record's JSON value follows
 * the schema of its topic at `SCHEMA_VERSION`; within one version fields are only ever added
 * (optional), so consumers must ignore fields and event types they do not know. A breaking change
 * bumps the version.
 */
export const SCHEMA_VERSION = '1';

/** Record headers set by the bus on every record. */
export const HEADER_SCHEMA_VERSION = 'schema-version';
export const HEADER_INSTANCE_ID = 'instance-id';
export const HEADER_CONTENT_TYPE = 'content-type';
export const CONTENT_TYPE_JSON = 'application/json';
