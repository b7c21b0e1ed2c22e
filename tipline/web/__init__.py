"""Shared web layer: templates, static files, messages in zh-CN and en, headers, errors."""
