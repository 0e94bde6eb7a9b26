/** Hostile values for validation tests. */

/** Values that once reached scripts: a hostId with a quote wrote `flush ruleset` into an nft script. */
export const HOSTILE = [
  'x"; flush ruleset; "',
  "x\nflush ruleset",
  "x\rCOMMIT",
  "a b",
  "$(reboot)",
  "`id`",
  "a;b",
  "a|b",
  "../../etc/passwd",
  "a'b",
  "a\\b",
  "",
  "x".repeat(101),
];
