"""End offsets for recovery come from a fetch high watermark, not the broker's ListOffsets answer."""

from __future__ import annotations

import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from hypercare.broker.watermarks import fetch_high_watermarks
from hypercare.entrypoints.embedded_broker import EmbeddedBroker


async def test_high_watermark_counts_every_record_of_the_last_batch(broker: EmbeddedBroker) -> None:
    topic = f"compat-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 1, 1)])
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=50)
    await producer.start()
    try:
        for batch in range(3):  # 3 batches of 5 records: offsets 0..14
            futures = [await producer.send(topic, f"{batch}-{i}".encode()) for i in range(5)]
            for future in futures:
                await future
    finally:
        await producer.stop()
    tp = TopicPartition(topic, 0)
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap)
    await consumer.start()
    try:
        reported = await consumer.end_offsets([tp])
    finally:
        await consumer.stop()
    true_end = await fetch_high_watermarks(broker.bootstrap, reported)
    assert true_end[tp] == 15
    assert reported[tp] <= 15  # Tansu 0.6 answers 11 here (first offset of the last batch + 1)
