#!/usr/bin/env bash
# The floor of scripts/benchmark, run inside a fresh test-bed container: the packages the
# roles install, in one apt-get transaction, configured just enough to start, and nginx
# answering ALIVE for Graylog. No checks, no TLS, no firewall rules, no inputs: what a
# converge costs beyond this is the price of the roles' checks and idempotence.
# Environment: MIRROR_LINE, MIRROR_KEY (a file), PASSWORD_SECRET, ADMIN_SHA2,
# ELASTICSEARCH_HEAP, GRAYLOG_HEAP.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

apt-key add "$MIRROR_KEY" >/dev/null 2>&1
echo "$MIRROR_LINE" >/etc/apt/sources.list.d/graylog-installer-mirror.list
apt-get update -qq
apt-get install -y -qq apt-transport-https ca-certificates curl gnupg pwgen uuid-runtime \
  iptables iptables-persistent openjdk-8-jre-headless mongodb-server elasticsearch \
  graylog-server nginx >/dev/null

echo "cluster.name: graylog" >>/etc/elasticsearch/elasticsearch.yml
echo "ES_HEAP_SIZE=$ELASTICSEARCH_HEAP" >>/etc/default/elasticsearch
sed -i -e "s|^password_secret =.*|password_secret = $PASSWORD_SECRET|" \
  -e "s|^root_password_sha2 =.*|root_password_sha2 = $ADMIN_SHA2|" /etc/graylog/server/server.conf
sed -i "s|-Xms[0-9]*[mg] -Xmx[0-9]*[mg]|-Xms$GRAYLOG_HEAP -Xmx$GRAYLOG_HEAP|" /etc/default/graylog-server
cat >/etc/nginx/sites-available/default <<'SITE'
server {
  listen 80 default_server;
  location /api/ { proxy_pass http://127.0.0.1:12900/; }
  location / { proxy_pass http://127.0.0.1:9000; }
}
SITE

systemctl daemon-reload
systemctl enable -q elasticsearch graylog-server
systemctl restart elasticsearch graylog-server nginx
until [ "$(curl -s http://127.0.0.1/api/system/lbstatus)" = ALIVE ]; do sleep 0.5; done
