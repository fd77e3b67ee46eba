// The patient record of the signed-in patient (GET /v1/patients lists just them), for the patient's pages.

import { get } from "../api.js";

export async function ownPatient() {
  const mine = (await get("/v1/patients")) || [];
  return mine[0] || null;
}
