// The stack config, on the ground floor: the procedure's components and the machinery
// both read it, it reads neither.
export * from "./checks";
export * from "./folderNames";
export * from "./layouts";
export * from "./parse";
export * from "./phases";
export * from "./refuse";
export * from "./schema";
export * from "./types";
