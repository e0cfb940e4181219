// Send windows (quiet hours) in the patient's time zone and cross-journey frequency caps: the pure
// rules the send activity applies just before handing a message over, and the simulator replays.
// Time-zone maths uses Intl with the IANA zone, so DST shifts are handled by the platform's tzdata.
import { WEEKDAYS, type JourneyDefinition, type NodeOf, type Rules, type SendWindow } from './schema.ts';
import type { SendResult } from './interpreter.ts';
import { durationToMs } from './duration.ts';

interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: (typeof WEEKDAYS)[number];
}

const formatters = new Map<string, Intl.DateTimeFormat>();

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function localTime(at: number, timeZone: string): LocalTime {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(new Date(at)).map((p) => [p.type, p.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: parts.weekday!.toLowerCase().slice(0, 3) as LocalTime['weekday'],
  };
}

/** The instant when the wall clock in `timeZone` shows the given date and time (DST-aware). */
export function zonedTimeToUtc(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number {
  const wanted = Date.UTC(year, month - 1, day, hour, minute);
  let guess = wanted;
  for (let i = 0; i < 3; i++) {
    const seen = localTime(guess, timeZone);
    const shown = Date.UTC(seen.year, seen.month - 1, seen.day, seen.hour, seen.minute);
    if (shown === wanted) return guess;
    guess += wanted - shown;
  }
  return guess; // a wall time skipped by a DST jump: the nearest instant after it
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

function insideWindow(window: SendWindow, t: LocalTime): boolean {
  const now = t.hour * 60 + t.minute;
  const [start, end] = [minutes(window.start), minutes(window.end)];
  const dayAllowed = (d: LocalTime['weekday']) => !window.days || window.days.includes(d);
  if (start < end) return dayAllowed(t.weekday) && now >= start && now < end;
  // Overnight window (e.g. 18:00–08:00): the early-morning part belongs to the previous day's window.
  if (now >= start) return dayAllowed(t.weekday);
  const previous = WEEKDAYS[(WEEKDAYS.indexOf(t.weekday) + 6) % 7]!;
  return now < end && dayAllowed(previous);
}

/** Null when `at` is inside the window; else the next instant the window opens. */
export function nextWindowOpening(window: SendWindow, timeZone: string, at: number): number | null {
  if (insideWindow(window, localTime(at, timeZone))) return null;
  const [h, m] = [Number(window.start.slice(0, 2)), Number(window.start.slice(3, 5))];
  for (let d = 0; d <= 8; d++) {
    const day = localTime(at + d * 86_400_000, timeZone);
    const opening = zonedTimeToUtc(day.year, day.month, day.day, h, m, timeZone);
    if (opening > at && insideWindow(window, localTime(opening, timeZone))) return opening;
  }
  return null; // no allowed day at all (validation prevents this)
}

export interface FrequencyCap {
  max: number;
  per: string;
}

/**
 * Null when another send fits under the cap; else when the oldest counted send leaves the window.
 * Sends stamped after `at` (reserved concurrently) count too.
 */
export function frequencyCapReleases(cap: FrequencyCap, recentSends: number[], at: number): number | null {
  const per = durationToMs(cap.per)!;
  const inWindow = recentSends.filter((t) => t > at - per).sort((a, b) => a - b);
  if (inWindow.length < cap.max) return null;
  return inWindow[inWindow.length - cap.max]! + per;
}

/** The send window that applies to a send node: its own, else the journey's; none when `null`. */
export function sendWindowFor(definition: JourneyDefinition, node: NodeOf<'send_email'>): SendWindow | undefined {
  return node.sendWindow === null ? undefined : (node.sendWindow ?? definition.rules.sendWindow);
}

/** The patient's own time zone when it is a valid IANA zone, else the deployment default. */
export function timeZoneFor(timeZone: unknown, fallback: string): string {
  return typeof timeZone === 'string' && isValidTimeZone(timeZone) ? timeZone : fallback;
}

/** Null when a send may go out now; else "deferred" until the window opens. */
export function windowDecision(window: SendWindow | undefined, timeZone: string, at: number): Extract<SendResult, { status: 'deferred' }> | null {
  const opening = window ? nextWindowOpening(window, timeZone, at) : null;
  return opening === null ? null : { status: 'deferred', until: opening, reason: 'outside the send window' };
}

/** Null when a send fits under the journey's cap; else deferred or skipped as the journey says. */
export function capDecision(cap: Rules['frequencyCap'], recentSends: number[], at: number): SendResult | null {
  const releases = cap ? frequencyCapReleases(cap, recentSends, at) : null;
  if (!cap || releases === null) return null;
  return cap.onCapped === 'skip' ? { status: 'skipped', reason: 'frequency cap' } : { status: 'deferred', until: releases, reason: 'frequency cap' };
}
