// ISO 8601 durations limited to fixed-length units (weeks, days, hours, minutes, seconds):
// months and years vary in length, so a journey timing written with them would be ambiguous.
const DURATION = /^P(?!$)(?:(\d+)W)?(?:(\d+)D)?(?:T(?!$)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,3})?)S)?)?$/;

const UNIT_MS = [7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1_000] as const;

/** Milliseconds in an ISO 8601 duration such as `PT48H` or `P3DT12H`, or null when malformed. */
export function durationToMs(text: string): number | null {
  const match = DURATION.exec(text);
  if (!match) return null;
  let total = 0;
  UNIT_MS.forEach((unit, i) => {
    const part = match[i + 1];
    if (part !== undefined) total += Number(part) * unit;
  });
  return Math.round(total);
}
