// Which machine each step runs on, named by its role in the stack config.
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
