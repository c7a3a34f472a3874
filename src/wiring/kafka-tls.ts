/**
 * TLS towards Kafka from configuration: KAFKA_SSL, and KAFKA_SSL_CA / KAFKA_SSL_CERT /
 * KAFKA_SSL_KEY (PEM text or a PEM file path each; any of them implies TLS). Each is parsed here,
 * so that an unusable one stops the start (exit code 2) naming the variable, instead of every
 * broker connection failing later.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { KafkaTls } from '../bus/kafka-config';
import type { Config } from '../config/env';
import { pemFromConfig } from '../config/pem';
import { ConfigError } from '../common/errors';
import { errorMessage } from '../common/error-message';

type TlsConfig = Pick<Config, 'KAFKA_SSL' | 'KAFKA_SSL_CA' | 'KAFKA_SSL_CERT' | 'KAFKA_SSL_KEY'>;

function certificates(name: string, value: string): string {
  const text = pemFromConfig(name, value);
  try {
    new X509Certificate(text);
  } catch (err) {
    throw new ConfigError(`${name}: not a PEM certificate (${errorMessage(err)})`);
  }
  return text;
}

function privateKey(name: string, value: string): string {
  const text = pemFromConfig(name, value);
  try {
    createPrivateKey(text);
  } catch (err) {
    throw new ConfigError(`${name}: not a PEM private key (${errorMessage(err)})`);
  }
  return text;
}

/** undefined: no TLS; true: TLS with the system's trust store; else TLS with the given PEM texts. */
export function kafkaTls(config: TlsConfig): boolean | KafkaTls | undefined {
  const { KAFKA_SSL_CA: ca, KAFKA_SSL_CERT: cert, KAFKA_SSL_KEY: key } = config;
  if ((cert === '') !== (key === ''))
    throw new ConfigError(
      `${cert === '' ? 'KAFKA_SSL_KEY' : 'KAFKA_SSL_CERT'} is set but ${cert === '' ? 'KAFKA_SSL_CERT' : 'KAFKA_SSL_KEY'} is not: mutual TLS needs both`,
    );
  if (ca === '' && cert === '') return config.KAFKA_SSL ? true : undefined;
  return {
    ...(ca !== '' ? { ca: certificates('KAFKA_SSL_CA', ca) } : {}),
    ...(cert !== '' ? { cert: certificates('KAFKA_SSL_CERT', cert), key: privateKey('KAFKA_SSL_KEY', key) } : {}),
  };
}
