"""The component provider's entry point: Pulumi runs ``python -u <this folder> <engine>``.

It serves the components of :mod:`stream_replica_provider` over Pulumi's provider gRPC protocol
(schema inferred from their type annotations; ``Construct`` builds one of them).
"""

from pulumi.provider.experimental import component_provider_host
from stream_replica_provider import COMPONENTS, PACKAGE_NAME, package_version

if __name__ == "__main__":
    component_provider_host(COMPONENTS, PACKAGE_NAME, version=package_version())
