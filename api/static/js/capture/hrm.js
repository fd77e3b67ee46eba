// Heart Rate Measurement (0x2A37) parser: bytes in, decoded fields out; no Bluetooth, no clock.
// The page's twin of collector/gatt.py: both pass tests/data/hrm_vectors.json. Beat timing is
// left to clock.js, strap filters to quirks.js.

/** RR-Interval resolution of the Heart Rate Service: 1/1024 s per tick (HRS 1.0 §3.1.1.5). */
export const RR_TICKS_PER_S = 1024;

export const HEART_RATE_SERVICE = 0x180d;
export const HEART_RATE_MEASUREMENT = 0x2a37;
export const BATTERY_SERVICE = 0x180f;
export const BATTERY_LEVEL = 0x2a19;
export const DEVICE_INFORMATION_SERVICE = 0x180a;
export const MANUFACTURER_NAME = 0x2a29;
export const MODEL_NUMBER = 0x2a24;
export const FIRMWARE_REVISION = 0x2a26;

// Flags byte (HRS 1.0 §3.1.1.1; GATT Specification Supplement, Heart Rate Measurement).
const FLAG_HR_UINT16 = 0x01;
const FLAG_CONTACT_DETECTED = 0x02;
const FLAG_CONTACT_SUPPORTED = 0x04;
const FLAG_ENERGY_PRESENT = 0x08;
const FLAG_RR_PRESENT = 0x10;
const FLAG_RESERVED = 0xe0;

/** A characteristic value that does not follow its specification (the message says how). */
export class MalformedPacket extends Error {
  constructor(message, packetHex, flags) {
    super(message);
    this.name = "MalformedPacket";
    this.packetHex = packetHex;
    this.flags = flags;
  }
}

/** An RR interval in ticks as ms, exactly (ticks * 1000 / 1024 is a binary fraction). */
export function ticksToMs(ticks) {
  return (ticks * 1000) / RR_TICKS_PER_S;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function asBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof DataView) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return Uint8Array.from(data);
}

/**
 * Decode a Heart Rate Measurement value (a DataView from `characteristicvaluechanged`, a
 * Uint8Array, an ArrayBuffer or an array of bytes).
 * Returns {heartRateBpm, sensorContact (true/false, null when unsupported), energyExpendedKj
 * (null when absent), rrTicks, rrMs, contactSupported}; throws MalformedPacket.
 */
export function parseHeartRateMeasurement(data) {
  const raw = asBytes(data);
  const hex = toHex(raw);
  if (raw.length === 0) throw new MalformedPacket("empty Heart Rate Measurement value", "", undefined);
  const flags = raw[0];
  if (flags & FLAG_RESERVED) {
    throw new MalformedPacket(
      `reserved flag bits set in Heart Rate Measurement flags 0x${flags.toString(16).padStart(2, "0")}`, hex, flags);
  }
  let pos = 1;
  let heartRateBpm;
  if (flags & FLAG_HR_UINT16) {
    if (raw.length < pos + 2) throw new MalformedPacket("truncated 16-bit heart rate field", hex, flags);
    heartRateBpm = raw[pos] | (raw[pos + 1] << 8);
    pos += 2;
  } else {
    if (raw.length < pos + 1) throw new MalformedPacket("truncated 8-bit heart rate field", hex, flags);
    heartRateBpm = raw[pos];
    pos += 1;
  }
  const contactSupported = Boolean(flags & FLAG_CONTACT_SUPPORTED);
  const sensorContact = contactSupported ? Boolean(flags & FLAG_CONTACT_DETECTED) : null;
  let energyExpendedKj = null;
  if (flags & FLAG_ENERGY_PRESENT) {
    if (raw.length < pos + 2) throw new MalformedPacket("truncated energy expended field", hex, flags);
    energyExpendedKj = raw[pos] | (raw[pos + 1] << 8);
    pos += 2;
  }
  const rest = raw.length - pos;
  const rrTicks = [];
  if (flags & FLAG_RR_PRESENT) {
    if (rest % 2) {
      throw new MalformedPacket(`odd trailing byte in RR-Interval list (${rest} bytes)`, hex, flags);
    }
    for (let i = pos; i < raw.length; i += 2) rrTicks.push(raw[i] | (raw[i + 1] << 8));
  } else if (rest) {
    throw new MalformedPacket(`${rest} unexpected byte(s) after the last field (RR flag not set)`, hex, flags);
  }
  return {
    heartRateBpm,
    sensorContact,
    energyExpendedKj,
    rrTicks,
    rrMs: rrTicks.map(ticksToMs),
    contactSupported,
  };
}

/** Decode a Battery Level value (0x2A19) into a percentage 0–100; throws MalformedPacket. */
export function parseBatteryLevel(data) {
  const raw = asBytes(data);
  if (raw.length !== 1) throw new MalformedPacket(`Battery Level must be 1 byte, got ${raw.length}`, toHex(raw));
  if (raw[0] > 100) throw new MalformedPacket(`Battery Level ${raw[0]} % exceeds 100 %`, toHex(raw));
  return raw[0];
}

/** Decode a Device Information string (trailing NULs and surrounding whitespace removed). */
export function parseUtf8String(data) {
  const raw = asBytes(data);
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch (err) {
    throw new MalformedPacket(`Device Information string is not valid UTF-8: ${err.message}`, toHex(raw));
  }
  return text.replace(/\u0000+$/, "").trim();
}
