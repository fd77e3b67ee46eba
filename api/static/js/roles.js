// The top bar of each role and its start page. Add a page a role should find in the top bar here.

/** [label, hash] per role; the first is the role's start page. */
export const NAV = {
  therapist: [["Patients", "#/patients"]],
  patient: [["My page", "#/me"]],
  admin: [["Users", "#/admin/users"], ["Assignments", "#/admin/assignments"], ["Audit log", "#/admin/audit"], ["E-mail", "#/admin/mail"]],
  researcher: [["Cohort and export", "#/research"]],
};

/** The start page of the signed-in user (the sign-in page when nobody is). */
export function homeFor(current) {
  if (!current || !NAV[current.role]) return "#/login";
  return NAV[current.role][0][1];
}
