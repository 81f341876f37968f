"""What the tests share, by topic: ``http`` (asserting answers), ``world`` (the reference rows every test runs
in), ``ids`` (valid national IDs), ``journeys`` (applicants, applications and loans built through the API),
``funds`` (guarantee funds and deposits) and ``live`` (the app served over real HTTP)."""
