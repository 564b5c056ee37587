# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render every file of one PBX's devices from the catalog's templates.

Runs on the controller (Jinja2 comes with ansible-core). The user's template
directory is searched before the built-in one, so any file can be overridden
by putting a template of the same relative name there.
"""

from __future__ import annotations

import functools
import hashlib
import os
from types import SimpleNamespace

from ansible_collections.pbxops.autoprov.plugins.module_utils import _device_pairs, _mac
from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog
from ansible_collections.pbxops.autoprov.plugins.module_utils._render import timezone as _timezone

try:
    import jinja2

    HAS_JINJA2 = True
except ImportError:  # pragma: no cover
    HAS_JINJA2 = False

MASK = "********"

# Settings whose values are secrets wherever they appear.
SECRET_SETTINGS = ("admin_password", "user_password", "provisioning_password")


def _xml_escape_always(name):
    return bool(name) and ".xml" in name


class TemplateRefused(Exception):
    """A template's own refusal (fail() in a template): a value the device cannot take."""


def _fail(message):
    raise TemplateRefused(message)


def _oneline(text):
    """Free text (descriptions) on one line, for comments in line-based config files."""
    return " ".join(str(text).split())


class RenderedFile:
    __slots__ = ("name", "content", "mac", "vendor", "secret", "optional", "template", "users")

    def __init__(self, name, content, mac, vendor, secret, template, optional=False):
        self.name = name
        self.content = content
        self.mac = mac
        self.vendor = vendor
        self.secret = secret
        self.optional = optional
        self.template = template
        # The devices that fetch it: the owner, or every device of the models sharing the file.
        self.users = (mac,) if mac else ()

    def manifest_entry(self):
        """What the manifest says of this file (docs/manifest.md)."""
        return {"sha256": self.sha256, "mac": self.mac, "vendor": self.vendor, "secret": self.secret, "optional": self.optional}

    @property
    def sha256(self):
        return hashlib.sha256(self.content.encode("utf-8")).hexdigest()


BUILTIN_TEMPLATES = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "templates"))
_ENV_OPTIONS = dict(keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


@functools.lru_cache(maxsize=1)
def _environment_tag():
    """A hash of this file: the environment's options, autoescape and filters live here, and Jinja's cache
    keys an entry by the template's name and source only, not by how the environment compiles it."""
    with open(__file__, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:12]


if HAS_JINJA2:

    class _BuiltinOnlyBytecodeCache(jinja2.FileSystemBytecodeCache):
        """Jinja's file cache for the templates below BUILTIN_TEMPLATES; any other template is compiled each time."""

        def get_bucket(self, environment, name, filename, source):
            if filename and os.path.realpath(filename).startswith(BUILTIN_TEMPLATES + os.sep):
                return super().get_bucket(environment, name, filename, source)
            return jinja2.bccache.Bucket(environment, "", "")  # key "": neither loaded nor stored

        def load_bytecode(self, bucket):
            if bucket.key:
                super().load_bytecode(bucket)

        def dump_bytecode(self, bucket):
            if bucket.key:
                try:
                    super().dump_bytecode(bucket)
                except OSError:
                    pass  # a full or read-only disk costs the next process a compile, nothing more


def _builtin_bytecode_cache():
    """Jinja's bytecode cache for the built-in templates, or None where Jinja finds no private directory.

    Every task runs in a fresh worker process: without it each one compiles every template again,
    which costs four times the rendering itself (bench/fleet). Jinja keeps the cache in a directory
    of this user's own (mode 0700, checked) and reuses an entry only while its template's source is
    unchanged; the file names carry _environment_tag(), which the cache does not check itself.
    Templates of a user's template_dir are never cached (they are the user's, and may hold anything).
    """
    if not HAS_JINJA2:  # pragma: no cover
        return None
    try:
        return _BuiltinOnlyBytecodeCache(pattern="pbxops-autoprov-%s-%%s.cache" % _environment_tag())
    except (OSError, RuntimeError):  # no safe private directory: compile every time
        return None


class Renderer:
    """Renders device and shared files; collects errors instead of stopping at the first."""

    def __init__(self, template_dirs):
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(template_dirs),
            undefined=jinja2.StrictUndefined,
            autoescape=_xml_escape_always,
            bytecode_cache=_builtin_bytecode_cache(),
            **_ENV_OPTIONS,
        )
        self.env.filters["mac"] = _mac.fmt
        self.env.filters["oneline"] = _oneline
        self.env.globals["fail"] = _fail
        self._tz_cache = {}

    def timezone(self, name):
        if name not in self._tz_cache:
            self._tz_cache[name] = _timezone.describe(name)
        return self._tz_cache[name]

    def _context(self, settings, vendor):
        return {
            "settings": settings,
            "tz": self.timezone(settings["timezone"]),
            "language": vendor.languages.get(settings["language"], settings["language"]),
            "vendor": {"key": vendor.key, "name": vendor.name},
            "derived": {},
            "firmware": None,
            "firmware_by_model": settings.get("firmware") or {},
        }

    def render(self, host, devices, settings, device_key=None):
        """Return ({name: RenderedFile}, secrets, errors) for validated device records.

        With a device key, each device's own files carry that device's own HTTP pair
        (_device_pairs.py) instead of the PBX-wide one, which shared files keep.
        """
        files, secrets, shared = {}, set(), {}
        errors = _Errors(host)
        secrets.update(str(settings[k]) for k in SECRET_SETTINGS if settings.get(k))
        for device in devices:
            vendor = catalog.VENDORS[device["vendor"]]
            model = catalog.find_models(device["model"], vendor.key)[0]
            dsettings = dict(settings)
            dsettings.update({k: v for k, v in device["vars"].items() if k in settings})
            if device_key:
                dsettings["provisioning_username"], dsettings["provisioning_password"] = _device_pairs.device_pair(
                    device_key, device["mac"]
                )
            secrets.update(line["secret"] for line in device["lines"] if line["secret"])
            secrets.update(str(dsettings[k]) for k in SECRET_SETTINGS if dsettings.get(k))
            context = self._device_context(errors, device, dsettings, vendor, model)
            if context is None:
                continue
            for spec in vendor.files:
                name = catalog.file_name(spec["name"], model, device["mac"])
                if spec["scope"] == "shared":
                    entry = shared.setdefault(name, (spec, vendor, [], []))
                    entry[2].append(model)
                    entry[3].append(device["mac"])
                    continue
                self._render_one(host, files, errors.items, spec, name, context, device["mac"], vendor)
        self._render_shared(host, files, errors, shared, settings)
        return files, secrets, errors.items

    def _device_context(self, errors, device, dsettings, vendor, model):
        """The template context of one device, or None when a setting or the vendor's lint refuses it."""
        mac = device["mac"]
        try:
            context = self._context(dsettings, vendor)
        except _timezone.TimezoneError as exc:
            errors.setting(device, "timezone", str(exc))
            return None
        problems = list(vendor.lint(device, dsettings, model, context["tz"])) if vendor.lint else []
        for field, message in problems:
            errors.setting(device, field, message) if field in dsettings else errors.device(device, field, message)
        if problems:
            return None
        # A namespace, so that templates can write device.keys (a dict's .keys is a method).
        context["device"] = SimpleNamespace(
            **device,
            mac_upper=mac.upper(),
            mac_colon=_mac.fmt(mac, "colon"),
            mac_colon_upper=_mac.fmt(mac, "colon_upper"),
            code=model.code,
            vendor_name=vendor.name,
        )
        context["firmware"] = (dsettings.get("firmware") or {}).get(model.name)
        if vendor.context:
            context["derived"] = dict(vendor.context(device, dsettings, model, context["tz"]))
        return context

    def _render_shared(self, host, files, errors, shared, settings):
        for name, (spec, vendor, models, users) in sorted(shared.items()):
            try:
                context = self._context(settings, vendor)
            except _timezone.TimezoneError as exc:
                errors.setting(None, "timezone", str(exc))
                continue
            context["models"] = sorted({m.name: m for m in models}.values(), key=lambda m: m.name)
            self._render_one(host, files, errors.items, spec, name, context, None, vendor)
            if name in files:
                files[name].users = tuple(users)

    def _render_one(self, host, files, errors, spec, name, context, mac, vendor):
        who = ("device %s" % _mac.fmt(mac, "colon")) if mac else "shared file"
        if name in files:
            errors.append("%s: %s: file %s would also be written for %s" % (host, who, name, files[name].mac or "another model"))
            return
        try:
            content = self.env.get_template(spec["template"]).render(context)
        except jinja2.TemplateSyntaxError as exc:
            errors.append("%s: %s: template %s line %s: %s" % (host, who, exc.filename or spec["template"], exc.lineno, exc.message))
            return
        except jinja2.TemplateNotFound as exc:
            errors.append("%s: %s: template %s not found in the template directories" % (host, who, exc.name))
            return
        except TemplateRefused as exc:
            errors.append("%s: %s: %s" % (host, who, exc))
            return
        except Exception as exc:  # an undefined variable, a filter that failed: the user's template
            where = spec["template"] + _template_line(exc)
            errors.append("%s: %s: template %s: %s: %s" % (host, who, where, type(exc).__name__, exc))
            return
        files[name] = RenderedFile(name, content, mac, vendor.key, bool(spec.get("secret")), spec["template"], bool(spec.get("optional")))


class _Errors:
    """Problems found while rendering one PBX; a PBX-wide setting's problem is reported once, not per device."""

    def __init__(self, host):
        self.host = host
        self.items = []

    def _add(self, text):
        if text not in self.items:
            self.items.append(text)

    def device(self, device, field, message):
        where = "device %s (autoprov_devices[%d])" % (_mac.fmt(device["mac"], "colon"), device["position"])
        self._add("%s: %s: %s: %s" % (self.host, where, field, message))

    def setting(self, device, field, message):
        """A setting's problem: the device's own vars.<field> when it has one, else the PBX's autoprov_<field>."""
        if device is not None and field in device["vars"]:
            self.device(device, "vars." + field, message)
        else:
            self._add("%s: %s (autoprov_%s): %s" % (self.host, field, field, message))


def _template_line(exc):
    """' line N' of the innermost template frame (Jinja2 rewrites tracebacks to template lines)."""
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return " line %d" % line if line else ""


def mask(text, secrets, vendor=None):
    """Text with every known secret value and every value under a secret key of the vendor masked."""
    if not text:
        return text
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    patterns = catalog.VENDORS[vendor].secret_keys if vendor in catalog.VENDORS else ()
    for pattern in patterns:
        text = pattern.sub(
            lambda m: (
                m.group(0)[: m.start("v") - m.start(0)] + MASK + m.group(0)[m.end("v") - m.start(0) :] if m.group("v") else m.group(0)
            ),
            text,
        )
    return text
