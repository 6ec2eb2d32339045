// While an upgrade hands over, the instances belong to neither gw alone: the old one has let go of
// them, the new one owns them only once told "commit". A stop in that window killed instances the
// new gw was adopting (the old side), or stopped ones still the old gw's (the new side), and a
// failed upgrade then brought back a gw that had already stopped. So a stop asked for in the window
// waits for its outcome, and happens then on whichever gw owns the instances.

export interface HandOverGate {
  /** The window opens: from now on stops are held. */
  open(): void;
  readonly isOpen: boolean;
  /** A stop asked for now: true when it must wait for the outcome (the first asker is kept). */
  hold(asker: string): boolean;
  /** The outcome is known: the window closes; returns who asked for a stop meanwhile, if anyone did. */
  close(): string | undefined;
}

export function handOverGate(openAtStart: boolean): HandOverGate {
  let isOpen = openAtStart;
  let asker: string | undefined;
  return {
    open: () => void (isOpen = true),
    get isOpen() {
      return isOpen;
    },
    hold(who) {
      if (isOpen) asker ??= who;
      return isOpen;
    },
    close() {
      isOpen = false;
      const who = asker;
      asker = undefined;
      return who;
    },
  };
}
