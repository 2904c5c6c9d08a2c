"""Static files of the portal's pages (portal/pages.py); a package so that they ship."""
