import * as fs from "fs";
import * as path from "path";
import Handlebars from "handlebars";
import { Shescape } from "shescape";

const templatesFolder = path.join(__dirname, "..", "templates");
// flagProtection off: it would drop a leading "-" from a value, changing it.
const shell = new Shescape({ shell: "bash", flagProtection: false });

/** The one way a value enters a shell command: quoted as a single bash word. */
export function shellQuote(value: string | number): string {
    return shell.quote(String(value));
}

/** A command given as words (from config), each quoted. */
export function shellCommand(words: readonly string[]): string {
    return words.map(shellQuote).join(" ");
}

const handlebars = Handlebars.create();
// In shell templates every value goes through `q` (one word) or `cmd` (a list of words).
handlebars.registerHelper("q", (value: unknown) => shellQuote(String(value)));
handlebars.registerHelper("cmd", (words: unknown) => {
    if (!Array.isArray(words)) throw new Error("cmd helper expects a list of words");
    return shellCommand(words.map(String));
});

// Pieces several scripts share (waiting until a machine serves...), used as {{> name}}.
const partialsFolder = path.join(templatesFolder, "partials");
for (const file of fs.readdirSync(partialsFolder).filter((name) => name.endsWith(".hbs"))) {
    handlebars.registerPartial(file.slice(0, -".hbs".length), fs.readFileSync(path.join(partialsFolder, file), "utf8"));
}

const compiled = new Map<string, Handlebars.TemplateDelegate>();

/** Renders templates/<name>.hbs; a missing value is an error rather than an empty string. */
export function render(name: string, values: object): string {
    let template = compiled.get(name);
    if (template === undefined) {
        const source = fs.readFileSync(path.join(templatesFolder, `${name}.hbs`), "utf8");
        template = handlebars.compile(source, { noEscape: true, strict: true });
        compiled.set(name, template);
    }
    return template(values);
}

export function templateNames(): string[] {
    return fs
        .readdirSync(templatesFolder)
        .filter((file) => file.endsWith(".hbs"))
        .map((file) => file.slice(0, -".hbs".length));
}
