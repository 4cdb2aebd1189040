// Which machine each step runs on: as its commands name it, or by its connection and the
// roles of the stack config (steps a live stack recorded before commands named machines).
import { commandMachine } from "../machinery/remoteStep";
import { configValue, ReviewInput } from "./input";
import { StepInputs } from "./previewJson";

function endpoint(host: unknown, port: unknown): string | undefined {
    if (typeof host !== "string" && typeof host !== "number") return undefined;
    // The config's default port; a connection always states its own.
    const portText = typeof port === "number" || (typeof port === "string" && port !== "") ? String(port) : "22";
    return `${host}:${portText}`;
}

/** host:port -> role (source, dest, a register's name), from the stack config. */
export function machineRoles(input: ReviewInput): Map<string, string> {
    const roles = new Map<string, string>();
    const add = (machine: unknown, fallbackName?: string) => {
        if (typeof machine !== "object" || machine === null) return;
        const { host, port, name } = machine as { host?: unknown; port?: unknown; name?: unknown };
        const key = endpoint(host, port);
        const role = typeof name === "string" ? name : fallbackName;
        if (key === undefined || role === undefined) return;
        // Two roles on one machine is refused by the program's config check; if it happens, say both.
        roles.set(key, roles.has(key) ? `${roles.get(key)}/${role}` : role);
    };
    add(configValue(input, "source"), "source");
    add(configValue(input, "dest"), "dest");
    const registers = configValue(input, "registers");
    if (Array.isArray(registers)) registers.forEach((register, index) => add(register, `register ${index + 1}`));
    return roles;
}

export function connectionOf(inputs: StepInputs | undefined): { key?: string; who?: string } {
    const connection = inputs?.connection;
    if (typeof connection !== "object" || connection === null) return {};
    const key = endpoint(connection.host, connection.port);
    const user = typeof connection.user === "string" ? `${connection.user}@` : "";
    return { key, who: key === undefined ? undefined : `${user}${key}` };
}

/**
 * The heading of the steps whose machine the preview does not say: their connection is
 * secret (the command executor's always is) and every command waits on earlier steps' outputs
 * (on a stack's first preview, the file steps that need the file as read first).
 */
export const machineNotShown = "machine not shown (its connection is secret, its commands known once earlier steps have run)";

/**
 * The heading of a step's machine, `<role> (<host>:<port>)`. Its commands' first line names
 * it whatever the executor; a command not yet known (it waits on earlier steps' outputs) is
 * skipped for another of the step's commands; the connection comes last.
 */
export function stepMachine(before: StepInputs | undefined, after: StepInputs | undefined, roles: Map<string, string>): string {
    for (const inputs of [after, before])
        for (const command of [inputs?.create, inputs?.update, inputs?.delete]) {
            const named = typeof command === "string" ? commandMachine(command) : undefined;
            if (named !== undefined) return `${named.role} (${endpoint(named.host, named.port)})`;
        }
    const key = connectionOf(after).key ?? connectionOf(before).key;
    if (key === undefined) return machineNotShown;
    const role = roles.get(key);
    return role === undefined ? key : `${role} (${key})`;
}
