// The Web Bluetooth link to a heart-rate strap: choose it (Heart Rate service 0x180D), connect,
// subscribe to Heart Rate Measurement (0x2A37) notifications, and reconnect when the link drops.
// Bytes go to the caller unparsed (hrm.js parses them); no clock, no storage here.

import { HEART_RATE_MEASUREMENT, HEART_RATE_SERVICE } from "./hrm.js";

/** Waits between reconnection attempts, ms (then the last one repeats). */
const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 8000];

/** Whether this browser offers Web Bluetooth (Chrome and Edge do; Safari and Firefox do not). */
export function webBluetoothAvailable() {
  return typeof navigator !== "undefined" && Boolean(navigator.bluetooth)
    && typeof navigator.bluetooth.requestDevice === "function";
}

/** Why there is no Web Bluetooth here, in plain words (null when there is). */
export function whyNoBluetooth() {
  if (webBluetoothAvailable()) return null;
  if (typeof window !== "undefined" && !window.isSecureContext) {
    return "This page was not opened over a secure connection (https), so the browser does not allow Bluetooth.";
  }
  return "This browser cannot connect to a heart-rate strap: Safari (on iPhone, iPad and Mac) and Firefox do not offer Web Bluetooth.";
}

let active = null;

/** The characteristic the open link is subscribed to, or null (for status and for tests). */
export function activeCharacteristic() {
  return active ? active.characteristic : null;
}

/**
 * A link to one chosen strap. Events: "state" (detail: connecting | connected | reconnecting |
 * closed), "packet" (detail: {value: DataView, wallMs}), "error" (detail: Error).
 */
export class StrapLink extends EventTarget {
  constructor(device) {
    super();
    this.device = device;
    this.characteristic = null;
    this.state = "closed";
    this.wanted = false;
    this.attempt = 0;
    this.timer = null;
    this.onValue = (event) => {
      this.dispatchEvent(new CustomEvent("packet", { detail: { value: event.target.value, wallMs: Date.now() } }));
    };
    this.onDrop = () => {
      if (active === this) active = null;
      this.characteristic = null;
      if (!this.wanted) return this.setState("closed");
      this.setState("reconnecting");
      this.scheduleReconnect();
    };
    device.addEventListener("gattserverdisconnected", this.onDrop);
  }

  /** Ask the user to choose a strap (the browser's own chooser). */
  static async choose() {
    const device = await navigator.bluetooth.requestDevice({ filters: [{ services: [HEART_RATE_SERVICE] }] });
    return new StrapLink(device);
  }

  get name() {
    return this.device.name || "heart-rate strap";
  }

  setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }

  /** Connect and subscribe; stays connected (reconnecting as needed) until close(). */
  async open() {
    this.wanted = true;
    this.setState("connecting");
    await this.connectOnce();
  }

  async connectOnce() {
    const server = await this.device.gatt.connect();
    const service = await server.getPrimaryService(HEART_RATE_SERVICE);
    const characteristic = await service.getCharacteristic(HEART_RATE_MEASUREMENT);
    characteristic.addEventListener("characteristicvaluechanged", this.onValue);
    await characteristic.startNotifications();
    this.characteristic = characteristic;
    active = this;
    this.attempt = 0;
    this.setState("connected");
  }

  scheduleReconnect() {
    clearTimeout(this.timer);
    const delay = RECONNECT_DELAYS_MS[Math.min(this.attempt, RECONNECT_DELAYS_MS.length - 1)];
    this.attempt += 1;
    this.timer = setTimeout(async () => {
      if (!this.wanted) return;
      try {
        await this.connectOnce();
      } catch (err) {
        this.dispatchEvent(new CustomEvent("error", { detail: err }));
        if (this.wanted && !(this.device.gatt && this.device.gatt.connected)) this.scheduleReconnect();
      }
    }, delay);
  }

  /** Stop: unsubscribe and disconnect (no reconnection afterwards). */
  close() {
    this.wanted = false;
    clearTimeout(this.timer);
    if (this.characteristic) this.characteristic.removeEventListener("characteristicvaluechanged", this.onValue);
    if (active === this) active = null;
    this.characteristic = null;
    try {
      if (this.device.gatt && this.device.gatt.connected) this.device.gatt.disconnect();
    } catch {
      // already gone
    }
    this.setState("closed");
  }
}
