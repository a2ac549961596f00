#!/bin/bash
# Provisions the broker for docker-compose.yml (run by the one-shot kafka-setup service, inside the broker's
# network namespace, on its loopback listener): the topics, one SCRAM-SHA-512 principal per component
# (its password from /run/secrets/<component>_kafka_password) and that principal's ACLs:
#   - Write on the one topic it publishes (<COMPONENT>_WRITES): only the gateway's principal writes registry.events;
#   - Read on the topics its consumers subscribe to (<COMPONENT>_READS), in consumer groups named after it.
# Every step is idempotent: the service runs it at each `docker compose up`.
set -euo pipefail

BOOTSTRAP=127.0.0.1:9094
BIN=/opt/kafka/bin

for topic in $TOPICS; do
  "$BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
    --topic "$topic" --partitions 3 --replication-factor 1
done

for component in $COMPONENTS; do
  upper=${component^^}
  writes_var="${upper}_WRITES"
  reads_var="${upper}_READS"
  password=$(cat "/run/secrets/${component}_kafka_password")
  # Hex passwords (deploy/README.md): nothing in them can break the bracketed config syntax.
  if [[ ! "$password" =~ ^[0-9a-f]{32,}$ ]]; then
    echo "kafka-setup: ${component}'s Kafka password must be at least 32 hex characters" >&2
    exit 1
  fi
  "$BIN/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP" --alter --entity-type users --entity-name "$component" \
    --add-config "SCRAM-SHA-512=[iterations=8192,password=${password}]"
  for topic in ${!writes_var}; do
    "$BIN/kafka-acls.sh" --bootstrap-server "$BOOTSTRAP" --add --allow-principal "User:${component}" \
      --operation Write --operation Describe --topic "$topic"
  done
  reads="${!reads_var:-}"
  for topic in $reads; do
    "$BIN/kafka-acls.sh" --bootstrap-server "$BOOTSTRAP" --add --allow-principal "User:${component}" \
      --operation Read --operation Describe --topic "$topic"
  done
  if [[ -n "$reads" ]]; then
    "$BIN/kafka-acls.sh" --bootstrap-server "$BOOTSTRAP" --add --allow-principal "User:${component}" \
      --operation Read --group "$component" --resource-pattern-type prefixed
  fi
done
echo "kafka-setup: topics, principals and ACLs in place"
