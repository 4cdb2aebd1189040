// Unit-test support (no test here): the mock engine and its recorder, the fixtures,
// the fake machines' outputs, and scripts run under bash.
export * from "./bash";
export * from "./fakeMachines";
export * from "./fixtures";
export * from "./pulls";
export * from "./recorder";
