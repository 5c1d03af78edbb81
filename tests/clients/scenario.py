"""A short scenario through a Python client generated from /api/v1/openapi.json by
openapi-python-client (into target/clients/carbontrace_client): footprint, batch, identify,
certificate, verify, usage. Run by tests/e2e/clients.test.mjs; prints one JSON line of what it
saw, exits non-zero on any surprise."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "target", "clients"))

from carbontrace_client import AuthenticatedClient  # noqa: E402
from carbontrace_client.api.certificates import issue_certificate, verify_certificate  # noqa: E402
from carbontrace_client.api.footprint import create_footprint, create_footprint_batch  # noqa: E402
from carbontrace_client.api.meta import get_usage  # noqa: E402
from carbontrace_client.api.products import identify_product  # noqa: E402
from carbontrace_client.models import (  # noqa: E402
    BatchRequest,
    CertificateFootprintRequest,
    Footprint,
    FootprintRequest,
    IdentifyRequest,
    Problem,
)

client = AuthenticatedClient(base_url=os.environ["CT_BASE_URL"] + "/api/v1", token=os.environ["CT_KEY"])


def check(ok, what):
    if not ok:
        sys.exit(f"scenario: {what}")


one = create_footprint.sync_detailed(
    client=client,
    body=FootprintRequest.from_dict({"category": "laptop", "product": {"brand": "Dell"},
                                     "specs": {"screen_size_in": 14, "memory_gb": 16}, "use": {"country": "FR"}}),
)
check(one.status_code == 200 and isinstance(one.parsed, Footprint), f"footprint: {one.status_code} {one.content[:200]!r}")
f = one.parsed
check(f.uncertainty.low_kg <= f.total_kg_co2e <= f.uncertainty.high_kg, "range holds the total")
check(f.uncertainty.confidence == 0.9, "a 90% range")

batch = create_footprint_batch.sync_detailed(
    client=client,
    body=BatchRequest.from_dict({"devices": [{"category": "monitor"}, {"product": {"id": "dell--latitude-5420"}}]}),
)
check(batch.status_code == 200 and len(batch.parsed.results) == 2, f"batch: {batch.status_code}")

found = identify_product.sync_detailed(client=client, body=IdentifyRequest.from_dict({"text": "Dell Latitude 5420"}))
check(found.status_code == 200, f"identify: {found.status_code}")

cert = issue_certificate.sync_detailed(
    client=client,
    body=CertificateFootprintRequest.from_dict({"footprint": {"product": {"id": "dell--latitude-5420"}, "use": {"country": "FR"}},
                                       "asset": {"serial": "PY-CLIENT-1"}}),
)
check(cert.status_code == 201, f"certificate: {cert.status_code} {cert.content[:300]!r}")
cert_id = json.loads(cert.content)["id"]

verified = verify_certificate.sync_detailed(client=client, id=cert_id)
check(verified.status_code == 200 and verified.parsed.valid is True, f"verify: {verified.status_code}")

usage = get_usage.sync_detailed(client=client)
check(usage.status_code == 200, f"usage: {usage.status_code}")

bad = create_footprint.sync_detailed(
    client=client, body=FootprintRequest.from_dict({"category": "laptop", "use": {"lifetime_years": 300}})
)
check(bad.status_code == 422 and isinstance(bad.parsed, Problem), f"a 422 parses as a Problem: {bad.status_code}")

print(json.dumps({"total": f.total_kg_co2e, "batch": len(batch.parsed.results), "certificate": cert_id,
                  "valid": verified.parsed.valid, "plan": json.loads(usage.content)["plan"]}))
