/**
 * The profile layer: where profiles and assignments come from, the registration flow that sets
 * devices up, and the report mapper that maps notifications and Sends to records.
 */
import type { Topics } from '../bus/topics';
import { BusUnavailableError, type Bus } from '../bus/types';
import type { Config } from '../config/env';
import { ConfigError } from '../common/errors';
import type { Logger } from '../observability/logger';
import { ProfileDirSource } from '../profile/profile-dir-source';
import { ProfileRegistry } from '../profile/profile-registry';
import { ProfileTopicSource } from '../profile/profile-topic-source';
import { parseAssignmentRules, ProfileAssigner, type ProvisioningStore } from '../profile/provisioning';
import { ProvisioningTopicSource } from '../profile/provisioning-topic-source';
import type { Publisher } from '../profile/publisher';
import { RegistrationFlow } from '../profile/registration-flow';
import type { SetupPacerStats } from '../profile/setup-pacer';
import { ReportMapper } from '../profile/report-mapper';
import { ProfileEvents } from '../profile/profile-events';
import type { LwM2mServer } from '../server/lwm2m-server';
import type { Registration } from '../server/registration/registration';
import type { SendEntries } from '../server/send/send-handler';
import { DeadlineQueue } from './deadline-queue';
import { errorMessage } from '../common/error-message';

/** Expired profile assignments released per second at most. */
const ASSIGNMENT_PRUNE_MS = 1000;
const ASSIGNMENT_PRUNE_SCAN = 4096;

export class ProfileLayer {
  readonly registry: ProfileRegistry;
  readonly assigner: ProfileAssigner;
  readonly reports: ReportMapper;
  /** Profile events of every device setup (the metrics count them). */
  readonly events = new ProfileEvents();
  private flow: RegistrationFlow | undefined;
  private dirSource: ProfileDirSource | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private readonly onError: (err: unknown, context: string) => void;
  private readonly sendDeadlines: DeadlineQueue;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly publisher: Publisher,
    provisioning: ProvisioningStore,
  ) {
    this.sendDeadlines = new DeadlineQueue(config.SEND_ACK_TIMEOUT_MS);
    this.onError = (err, context) => log.warn({ err: errorMessage(err), context }, 'profile layer');
    this.registry = new ProfileRegistry(this.onError);
    let rules;
    try {
      rules = parseAssignmentRules(JSON.parse(config.PROFILE_RULES), 'PROFILE_RULES');
    } catch (err) {
      throw new ConfigError(`PROFILE_RULES=${JSON.stringify(config.PROFILE_RULES)}: ${errorMessage(err)}`);
    }
    this.assigner = new ProfileAssigner({
      store: provisioning,
      rules,
      cacheSize: config.PROFILE_ASSIGNMENT_CACHE_SIZE,
      cacheTtlMs: config.PROFILE_ASSIGNMENT_CACHE_TTL_MS,
    });
    this.reports = new ReportMapper({
      registry: this.registry,
      assigner: this.assigner,
      publisher,
      onFailure: this.onError,
    });
  }

  /** The Send sink: the device is acknowledged once Kafka accepted the records, or gets 5.03 after the deadline. */
  readonly sendSink = (reg: Registration, entries: SendEntries): Promise<void> =>
    this.sendDeadlines.race(
      this.reports.handleSend(reg, entries),
      () => new BusUnavailableError(`the bus did not acknowledge within ${this.config.SEND_ACK_TIMEOUT_MS} ms`),
    );

  /** Loads profiles and assignments (directory, then topics when following Kafka), then starts the flow. */
  async start(server: LwM2mServer, bus: Bus, topics: Topics, followTopics: boolean): Promise<void> {
    const c = this.config;
    if (c.PROFILES_DIR !== '') {
      this.dirSource = new ProfileDirSource({
        dir: c.PROFILES_DIR,
        registry: this.registry,
        debounceMs: c.PROFILES_DIR_DEBOUNCE_MS,
        rescanMs: c.PROFILES_DIR_RESCAN_MS,
        onError: this.onError,
      });
      await this.dirSource.start();
    }
    const flow = new RegistrationFlow({
      server,
      registry: this.registry,
      assigner: this.assigner,
      publisher: this.publisher,
      onFailure: this.onError,
      concurrency: c.PROFILE_SETUP_CONCURRENCY,
      maxOutstandingRequests: c.PROFILE_SETUP_MAX_OUTSTANDING,
      compositeSeparateTimeoutMs: c.PROFILE_COMPOSITE_SEPARATE_TIMEOUT_MS,
      events: this.events,
    });
    this.flow = flow;
    if (followTopics) {
      await new ProfileTopicSource({
        bus,
        topic: topics.profiles,
        registry: this.registry,
        onError: this.onError,
      }).start();
      await new ProvisioningTopicSource({
        bus,
        topic: topics.devices,
        assigner: this.assigner,
        onError: this.onError,
        onChange: (ep) => flow.assignmentChanged(ep),
      }).start();
    }
    flow.start();
    this.reports.attach(server.events, { send: false });
    // Releases idle devices' expired assignments (the cache is otherwise only bounded by its size).
    this.pruneTimer = setInterval(() => this.assigner.pruneExpired(ASSIGNMENT_PRUNE_SCAN), ASSIGNMENT_PRUNE_MS);
    this.pruneTimer.unref();
    this.log.info({ profiles: this.registry.names() }, 'profiles loaded');
  }

  /** Setup requests outstanding now, at most since start, and waiting (SetupPacer); zeros before start. */
  setupRequests(): SetupPacerStats {
    return this.flow?.pacer.stats ?? { outstanding: 0, maxOutstanding: 0, waiting: 0 };
  }

  async stop(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.sendDeadlines.close();
    await this.flow?.stop();
    await this.dirSource?.stop();
  }
}
