"""The real URLs plus `/bench/baseline/...` (bare Django views to compare the API against)."""

from django.urls import path

from bench import baseline
from opsportal.urls import urlpatterns as opsportal_urlpatterns

urlpatterns = [
    path("bench/baseline/releases", baseline.release_list, name="bench-baseline-release-list"),
    path("bench/baseline/releases/<str:pk>", baseline.release_detail, name="bench-baseline-release-detail"),
    *opsportal_urlpatterns,
]
