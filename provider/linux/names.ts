/** Validation of every value that can reach a command: names, addresses, MACs, MTUs. Pure. */
import * as ipaddr from "ipaddr.js";
import { ValidationError } from "../host/errors";

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

/** Checks a Linux interface name: 1–15 chars of `[A-Za-z0-9_.-]`, not `.` or `..`. */
export function checkIfName(name: unknown, field: string): string {
  if (typeof name !== "string" || !IFNAME.test(name) || name === "." || name === "..") {
    throw new ValidationError(field, `expected an interface name of 1-15 characters from [A-Za-z0-9_.-], got ${JSON.stringify(name)}`);
  }
  return name;
}

/** Checks a network namespace name (a file name under /run/netns). */
export function checkNetnsName(name: unknown, field: string): string {
  if (typeof name !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(name) || name === "." || name === "..") {
    throw new ValidationError(field, `expected a namespace name of 1-64 characters from [A-Za-z0-9_.-], got ${JSON.stringify(name)}`);
  }
  return name;
}

/** An interface address in canonical form: `10.0.0.1/24`, `fd00::1/64`. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly address: string;
  readonly prefix: number;
  /** Canonical text, `address/prefix`. */
  readonly text: string;
}

/** Parses an interface address with prefix (IPv4 or IPv6) and returns its canonical form. */
export function parseCidr(value: unknown, field: string): Cidr {
  if (typeof value !== "string" || !value.includes("/")) {
    throw new ValidationError(field, `expected an address with prefix length such as 192.168.1.1/24 or fd00::1/64, got ${JSON.stringify(value)}`);
  }
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(value);
  } catch {
    throw new ValidationError(field, `expected an address with prefix length such as 192.168.1.1/24 or fd00::1/64, got ${JSON.stringify(value)}`);
  }
  const [addr, prefix] = parsed;
  const family = addr.kind() === "ipv4" ? 4 : 6;
  // ipaddr.js accepts shorthand IPv4 forms ("10.1/8"); only the four-part form is taken.
  if (family === 4 && !ipaddr.IPv4.isValidFourPartDecimal(value.split("/")[0])) {
    throw new ValidationError(field, `expected a dotted-quad IPv4 address, got ${JSON.stringify(value)}`);
  }
  const address = addr.toString();
  return { family, address, prefix, text: `${address}/${prefix}` };
}

/** Parses a plain IP address (no prefix) and returns its canonical text. */
export function parseIp(value: unknown, field: string): string {
  if (typeof value !== "string" || !ipaddr.isValid(value) || (value.includes(".") && !value.includes(":") && !ipaddr.IPv4.isValidFourPartDecimal(value))) {
    throw new ValidationError(field, `expected an IPv4 or IPv6 address, got ${JSON.stringify(value)}`);
  }
  return ipaddr.parse(value).toString();
}

/** Checks a unicast Ethernet MAC address and returns it lower-case. */
export function checkMac(value: unknown, field: string): string {
  if (typeof value !== "string" || !/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(value)) {
    throw new ValidationError(field, `expected a MAC address like 02:42:ac:11:00:02, got ${JSON.stringify(value)}`);
  }
  const mac = value.toLowerCase();
  if (parseInt(mac.slice(0, 2), 16) & 1) {
    throw new ValidationError(field, `expected a unicast MAC address (first octet even), got ${JSON.stringify(value)}`);
  }
  return mac;
}

/** Checks an MTU (68–65535). */
export function checkMtu(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 68 || value > 65535) {
    throw new ValidationError(field, `expected an integer MTU between 68 and 65535, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Checks an optional boolean. */
export function checkBool(value: unknown, field: string): boolean {
  if (typeof value !== "boolean") throw new ValidationError(field, `expected true or false, got ${JSON.stringify(value)}`);
  return value;
}

/** Checks a Docker container name or ID (what `docker inspect` accepts as one word). */
export function checkContainerName(name: unknown, field: string): string {
  if (typeof name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(name)) throw new ValidationError(field, `expected a container name or ID, got ${JSON.stringify(name)}`);
  return name;
}

/** A host route's prefix in an address's family: `/32` or `/128`. */
export const hostPrefix = (address: string): string => (address.includes(":") ? "/128" : "/32");

/** An address as it goes before `:port`: IPv6 in brackets (`[fd00::2]`), IPv4 as it is. */
export const bracketed = (address: string): string => (address.includes(":") ? `[${address}]` : address);
