"""The public survey page: GET shows the form, POST stores the answer (CSRF protected).

No sign-in: the signed link is the key. Unusable links (broken, expired, used) get a page that
says so, with status 410.
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from servio.core.errors import ValidationFailed
from servio.surveys import services

RATINGS = [
    (5, "5 - Excellent"),
    (4, "4 - Good"),
    (3, "3 - Fair"),
    (2, "2 - Poor"),
    (1, "1 - Very poor"),
]


class SurveyForm(forms.Form):
    rating = forms.TypedChoiceField(
        choices=RATINGS, coerce=int, widget=forms.RadioSelect, label="How did we do?"
    )
    comment = forms.CharField(
        required=False,
        max_length=services.MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Anything you want to tell us? (optional)",
    )


def _private(response: HttpResponse) -> HttpResponse:
    """The token is in the URL: keep it out of caches, referrers and search engines."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _unusable(request: HttpRequest, exc: services.SurveyLinkUnusable) -> HttpResponse:
    return _private(
        render(
            request, "surveys/unusable.html", {"message": exc.detail, "kind": exc.kind}, status=410
        )
    )


@csrf_protect
@require_http_methods(["GET", "POST"])
def respond(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.survey_open(token=token)
    except services.SurveyLinkUnusable as exc:
        return _unusable(request, exc)
    if request.method == "POST":
        form = SurveyForm(request.POST)
        if form.is_valid():
            try:
                services.survey_answer(
                    token=token,
                    rating=form.cleaned_data["rating"],
                    comment=form.cleaned_data["comment"],
                )
            except services.SurveyLinkUnusable as exc:
                return _unusable(request, exc)
            except ValidationFailed as exc:
                for name, messages in exc.errors.items():
                    for message in messages:
                        form.add_error(name if name in form.fields else None, message)
            else:
                return _private(
                    render(request, "surveys/thanks.html", {"ticket": invitation.ticket})
                )
    else:
        initial = request.GET.get("rating")
        form = SurveyForm(
            initial={"rating": int(initial)} if initial in {"1", "2", "3", "4", "5"} else None
        )
    return _private(
        render(request, "surveys/respond.html", {"form": form, "ticket": invitation.ticket})
    )
