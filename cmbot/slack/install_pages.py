"""The web pages of an install: the "Add to Slack" page, and the page Slack's redirect lands on.

Bolt's own pages say "Slack App Installation" and "Thank you!" in English whatever the
installer reads; cmbot keeps Bolt's flow (state cookie, code exchange, redirects into Slack) and
only words the pages from its catalogues, in the installer's language (their browser's
`Accept-Language` on the install page, cmbot's default language after Slack's redirect).
"""

from __future__ import annotations

import html

from slack_bolt.oauth.oauth_flow import OAuthFlow
from slack_bolt.request import BoltRequest
from slack_sdk.oauth.redirect_uri_page_renderer import RedirectUriPageRenderer

from ..i18n import LANGUAGES, t

ADD_TO_SLACK = ("https://platform.slack-edge.com/img/add_to_slack.png",
                "https://platform.slack-edge.com/img/add_to_slack@2x.png")


def page(lang: str, title: str, body: str, head: str = "") -> str:
    return (f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">{head}'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>body{{font-family:system-ui,sans-serif;"
            "max-width:36em;margin:3em auto;padding:0 1em;line-height:1.5;text-align:center}"
            f"</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>\n")


def preferred(accept_language: str, default: str) -> str:
    """The first of the browser's languages that cmbot speaks, else `default`."""
    for part in accept_language.split(","):
        code = part.split(";", 1)[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return default


class InstallFlow(OAuthFlow):
    """Bolt's OAuth flow with cmbot's install page."""

    default_lang = "en"

    def build_install_page_html(self, url: str, request: BoltRequest) -> str:
        accept = (request.headers.get("accept-language") or [""])[0]
        lang = preferred(accept, self.default_lang)
        button = (f'<p><a href="{html.escape(url)}"><img alt="{html.escape(t("install.button", lang))}" '
                  f'height="40" width="139" src="{ADD_TO_SLACK[0]}" '
                  f'srcset="{ADD_TO_SLACK[0]} 1x, {ADD_TO_SLACK[1]} 2x"></a></p>')
        return page(lang, t("install.title", lang), f"<p>{html.escape(t('install.text', lang))}</p>{button}")


class InstallPages(RedirectUriPageRenderer):
    """The page after Slack's redirect: installed (then on into Slack), or why not."""

    def __init__(self, lang: str, install_path: str, redirect_uri_path: str):
        super().__init__(install_path=install_path, redirect_uri_path=redirect_uri_path)
        self.lang = lang

    def render_success_page(self, app_id: str, team_id: str | None,
                            is_enterprise_install: bool | None = None,
                            enterprise_url: str | None = None) -> str:
        url = (f"slack://app?team={team_id}&id={app_id}" if team_id and app_id else "slack://open")
        if is_enterprise_install and enterprise_url and app_id:
            url = f"{enterprise_url}manage/organization/apps/profile/{app_id}/workspaces/add"
        link = html.escape(url)
        body = (f"<p>{html.escape(t('install.done_text', self.lang))}</p>"
                f'<p><a href="{link}">{html.escape(t("install.open_slack", self.lang))}</a></p>')
        return page(self.lang, t("install.done_title", self.lang), body,
                    head=f'<meta http-equiv="refresh" content="0; URL={link}">')

    def render_failure_page(self, reason: str) -> str:
        body = (f"<p>{html.escape(t('install.failed_text', self.lang, reason=reason))}</p>"
                f'<p><a href="{html.escape(self.install_path)}">'
                f"{html.escape(t('install.again', self.lang))}</a></p>")
        return page(self.lang, t("install.failed_title", self.lang), body)
