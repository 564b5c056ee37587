# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""XML-RPC over Http for the vendors that still speak it (Fanvil, Gigaset, Htek).

xmlrpc.client builds and reads the documents; defusedxml looks at every answer
first, so a hostile or broken service cannot make us expand entities.
"""

from __future__ import annotations

import xmlrpc.client

from ansible_collections.pbxops.autoprov.plugins.module_utils._rps.base import RpsError

try:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring as defused_fromstring

    HAS_DEFUSEDXML = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_DEFUSEDXML = False


def call(http, url, method, params, auth):
    """Call one method; the decoded result. Faults and non-200 answers raise RpsError."""
    body = xmlrpc.client.dumps(tuple(params), methodname=method, encoding="UTF-8", allow_none=False)
    response = http.request("POST", url, data=body.encode("utf-8"), headers={"Content-Type": "text/xml"}, auth=auth)
    if response.status_code == 401:
        raise RpsError("%s: the RPS refused the account (HTTP 401): check credentials.username/password" % method)
    if response.status_code != 200:
        raise RpsError("%s: HTTP %s %s: %s" % (method, response.status_code, response.reason, response.text[:200]))
    try:
        defused_fromstring(response.content)
        (result,), _method = xmlrpc.client.loads(response.content)
    except xmlrpc.client.Fault as fault:
        raise RpsError("%s: the RPS answered with fault %s: %s" % (method, fault.faultCode, fault.faultString))
    except (DefusedXmlException, ValueError, TypeError, xmlrpc.client.ResponseError) as exc:
        raise RpsError("%s: not an XML-RPC answer (%s): %r" % (method, exc, response.text[:200]))
    except Exception as exc:  # expat errors have no common public base class
        raise RpsError("%s: not an XML-RPC answer (%s): %r" % (method, exc, response.text[:200]))
    return result


def pair(result, method):
    """The [ok, text] pair these services answer with."""
    if not (isinstance(result, (list, tuple)) and len(result) == 2 and isinstance(result[0], bool)):
        raise RpsError("%s: unexpected answer %r (expected [boolean, text])" % (method, result))
    return result[0], result[1]
