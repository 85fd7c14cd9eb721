/**
 * Country codes: ISO 3166-1 alpha-2, the officially assigned ones, upper case
 * (`person.country`, a policy scope's `match.country`). The list is written out
 * rather than asked of Intl: ICU also names regions that are not countries
 * (`EU`, `UN`, `QO`) and withdrawn codes (`SU`, `YU`), and its data differs
 * between Node builds; an HR event must validate the same everywhere.
 */
import { z } from 'zod';

/** The 249 officially assigned ISO 3166-1 alpha-2 codes (2024), and `XK`. */
const CODES = `
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ
BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR
CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU
ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ
LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI
SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR
TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
XK`;

/**
 * `XK` is user-assigned in ISO 3166-1, not assigned, but it is the code HR
 * systems, the EU and the ISO-4217 world use for Kosovo; refusing it would
 * refuse real employees.
 */
export const COUNTRY_CODES = CODES.trim().split(/\s+/) as [string, ...string[]];
const COUNTRIES: ReadonlySet<string> = new Set(COUNTRY_CODES);

export function isCountryCode(value: string): boolean {
  return COUNTRIES.has(value);
}

/** An enum, so the exported JSON Schema lists the codes; the message stays short. */
export const countryCode = z.enum(COUNTRY_CODES, {
  message: 'expected an ISO 3166-1 alpha-2 country code in upper case, such as DE or US',
});
