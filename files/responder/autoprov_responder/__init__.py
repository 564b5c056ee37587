# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PnP responder and config host for pbxops.autoprov (Python standard library only)."""

__version__ = "1.0.0"
SERVER_NAME = "autoprov-responder/%s" % __version__
