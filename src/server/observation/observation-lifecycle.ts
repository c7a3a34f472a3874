/**
 * Ends observations when their registration goes away, and says so once per observation.
 */
import type { ObservationStore } from './observation-store';
import type { ServerEvents } from '../events';
import type { Registration } from '../registration/registration';

export type EndReason = 'deregistered' | 'replaced' | 'expired';

export class ObservationLifecycle {
  constructor(
    private readonly store: ObservationStore,
    private readonly events: ServerEvents,
    private readonly onEnded: (token: string) => void,
  ) {}

  async endAll(reg: Registration, reason: EndReason): Promise<void> {
    const ended = await this.store.removeByRegistration(reg.id);
    for (const observation of ended) {
      this.onEnded(observation.token);
      this.events.emit({ type: 'observation-ended', observation, reason });
    }
  }
}
