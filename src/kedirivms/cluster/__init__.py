"""Scale-out on NATS JetStream: workers lease cameras from a key-value bucket and run their pipelines; events go
through JetStream streams to the command centre's store (docs/scale-out.md)."""
