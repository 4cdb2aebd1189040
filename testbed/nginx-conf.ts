// nginx configuration of a core host, in the shape Pryv.io's 2019 core template
// installs under ${PRYV_CONF_ROOT}/core/nginx/conf (see shared/MIGRATION.md): the
// migration program rewrites site-443.conf, so this file is what it has to cope with.

const upstreamServers = (host: string, ports: number[]): string => ports.map((p) => `  server ${host}:${p} max_fails=3 fail_timeout=30s;`).join("\n");

const CORE_PORTS = [3000, 3001, 3002, 3003, 3004, 3005];

export function site443(domain: string, confRoot: string): string {
    return `upstream core_server {
${upstreamServers("core", CORE_PORTS)}
}

upstream websocket_server {
  ip_hash;
${upstreamServers("core", CORE_PORTS)}
}

upstream hfs_server {
${upstreamServers("hfs", CORE_PORTS)}
}

upstream preview_server {
  server preview:9000 max_fails=3 fail_timeout=30s;
}

# Added on this install for the audit service; not part of the core template.
upstream audit_server {
  server audit:3000 max_fails=3 fail_timeout=30s;
}

server {
  listen               443 ssl;
  server_name          *.${domain};
  client_max_body_size 5M;

  access_log ${confRoot}/core/nginx/log/core.access.log;
  error_log  ${confRoot}/core/nginx/log/core.error.log;

  # Proxy options (have to be within the server block to be effective)
  # This enables websocket support
  proxy_http_version 1.1;
  proxy_set_header Upgrade $http_upgrade;
  proxy_set_header Connection "upgrade";
  proxy_set_header X-Real-IP $remote_addr;
  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
  proxy_set_header X-Forwarded-Proto $scheme;
  proxy_set_header X-Forwarded-Host $host;
  proxy_redirect off;

  set $my_host $host;
  proxy_set_header Host $my_host;

  location = / {
    # Browsers landing on the API are sent to the web app; API clients reach core.
    if ($request_method = GET) {
      return 302 https://sw.${domain}/access/signinhub.html;
    }
    proxy_pass http://core_server;
  }

  location / {
    proxy_pass http://core_server;
  }

  location /previews/ {
    proxy_pass http://preview_server;
  }

  location ~* ^/events/[^/]+/series$ {
    proxy_pass http://hfs_server;
  }

  location ~* ^/series/batch$ {
    proxy_pass http://hfs_server;
  }

  location /socket.io/ {
    proxy_pass http://websocket_server;
  }

  location /audit/ {
    proxy_pass http://audit_server;
  }
}
`;
}

export function site80(domain: string): string {
    return `server {
  listen      80;
  server_name ${domain} *.${domain};
  return      301 https://$host$request_uri;
}
`;
}

/** Paths that the docker image would keep inside the container live in the host's folder. */
export function nginxConf(domain: string, confRoot: string, dir: string): string {
    const conf = `${confRoot}/core/nginx/conf`;
    return `# Test host fixture: nginx runs as a process of the host instead of a container.
user root;
daemon on;
worker_processes 1;
pid ${dir}/run/nginx.pid;
error_log ${confRoot}/core/nginx/log/error.log;

events {
  worker_connections 512;
}

http {
  default_type application/octet-stream;
  sendfile on;
  keepalive_timeout 65;
  server_names_hash_bucket_size 64;
  access_log ${confRoot}/core/nginx/log/access.log;

  client_body_temp_path ${dir}/nginx-tmp/body;
  proxy_temp_path ${dir}/nginx-tmp/proxy;
  fastcgi_temp_path ${dir}/nginx-tmp/fastcgi;
  uwsgi_temp_path ${dir}/nginx-tmp/uwsgi;
  scgi_temp_path ${dir}/nginx-tmp/scgi;

  ssl_certificate ${conf}/secret/${domain}-bundle.crt;
  ssl_certificate_key ${conf}/secret/${domain}.key;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache shared:SSL:1m;

  include ${conf}/site*.conf;
}
`;
}
