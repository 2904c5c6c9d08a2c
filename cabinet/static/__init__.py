"""Static files of the cabinet's pages (cabinet/pages.py); a package so that they ship."""
