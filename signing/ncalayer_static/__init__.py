"""Static files of the signer's chooser page (signing/ncalayer.py); a package so that they ship."""
