"""The wire protocol: Rekognition's JSON shapes in and out. Services never see these names."""
