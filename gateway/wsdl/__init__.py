"""The ШЭП v10 WSDL and XSD files; a package only so that setuptools ships them as package data."""
