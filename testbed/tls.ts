// The one certificate of a run: nginx on every core host serves it, clients trust it
// as their CA. checks.ts finds it here, so its helpers keep the short signatures.
import * as fs from "fs";
import * as path from "path";
import { check } from "./shell";

export interface Certificate {
    certPath: string;
    keyPath: string;
    certPem: string;
    keyPem: string;
}

let active: Certificate | undefined;

export async function makeCertificate(dir: string, domain: string): Promise<Certificate> {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const certPath = path.join(dir, `${domain}-bundle.crt`);
    const keyPath = path.join(dir, `${domain}.key`);
    await check("openssl", [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "30",
        "-subj",
        `/CN=*.${domain}`,
        "-addext",
        `subjectAltName=DNS:*.${domain},DNS:${domain}`,
        "-keyout",
        keyPath,
        "-out",
        certPath,
    ]);
    const cert = { certPath, keyPath, certPem: fs.readFileSync(certPath, "utf8"), keyPem: fs.readFileSync(keyPath, "utf8") };
    active = cert;
    return cert;
}

export function activeCertificate(): Certificate {
    if (!active) throw new Error("no test hosts are running: start them with startTestHosts()");
    return active;
}

export function clearActiveCertificate(): void {
    active = undefined;
}
