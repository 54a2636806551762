// describeUserAgent names a session's browser and system for people
// ("Firefox on Windows"); the raw string stays available as a title.
export function describeUserAgent(ua: string): string {
  const s = ua ?? '';
  let browser = '';
  if (/\bEdg(e|A|iOS)?\//.test(s)) browser = 'Edge';
  else if (/\bOPR\//.test(s)) browser = 'Opera';
  else if (/\b(Firefox|FxiOS)\//.test(s)) browser = 'Firefox';
  else if (/\b(Chrome|CriOS|Chromium)\//.test(s)) browser = 'Chrome';
  else if (/\bVersion\/[\d.]+.*Safari\//.test(s)) browser = 'Safari';
  else if (/^curl\//.test(s)) browser = 'curl';
  let system = '';
  if (/\b(iPhone|iPad|iPod)\b/.test(s)) system = 'iOS';
  else if (/\bAndroid\b/.test(s)) system = 'Android';
  else if (/\bWindows\b/.test(s)) system = 'Windows';
  else if (/\bMac OS X\b|\bMacintosh\b/.test(s)) system = 'macOS';
  else if (/\bCrOS\b/.test(s)) system = 'ChromeOS';
  else if (/\bLinux\b/.test(s)) system = 'Linux';
  if (browser && system) return `${browser} on ${system}`;
  if (browser || system) return browser || system;
  return s.trim() ? 'Unknown browser' : 'Unknown device';
}
