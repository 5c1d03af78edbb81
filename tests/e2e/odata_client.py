"""Drive the OData feed with a real OData v4 client library (python-odata), as a BI tool
would: read $metadata, list entity sets, filter, order, follow @odata.nextLink to the end.
Usage: odata_client.py <base url of /odata> <api key>; prints JSON for the Node test."""
import json
import sys

import requests
from odata import ODataService

base, key = sys.argv[1], sys.argv[2]
session = requests.Session()
session.auth = ("apikey", key)  # Basic, with the API key as the password (what Excel sends)
service = ODataService(base, reflect_entities=True, session=session)
Asset = service.entities["Assets"]  # python-odata names classes by entity set
AuditEntry = service.entities["AuditLog"]

all_assets = [a.DocumentId for a in service.query(Asset).order_by(Asset.DocumentId.asc())]
laptops = [a.DocumentId for a in service.query(Asset).filter(Asset.Category == "laptop")]
big = [(a.DocumentId, float(a.AvoidedKgCo2e)) for a in service.query(Asset).filter(Asset.AvoidedKgCo2e > 100).order_by(Asset.AvoidedKgCo2e.desc())]
audit = [e.Seq for e in service.query(AuditEntry)]
print(json.dumps({
    "entity_types": sorted(service.entities.keys()),
    "assets": all_assets, "laptops": laptops, "big": big, "audit_seqs": audit,
    "count": service.query(Asset).count(),
}))
